source "file" "out" {
  content = "${1 / 0}"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
