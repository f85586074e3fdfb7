source "file" "out" {
  content = "${"five" + 1}"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
