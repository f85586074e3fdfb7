source "file" "out" {
  content = "${"abc" < "abd"}"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
