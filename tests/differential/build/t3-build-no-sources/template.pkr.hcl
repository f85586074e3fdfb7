source "file" "out" {
  target  = "out.txt"
  content = "ok\n"
}
build {
  name = "empty"
}
