source "file" "out" {
  target  = "out.txt"
  content = "${length(base64gzip("hello")) > 0}\n"
}
build {
  sources = ["source.file.out"]
}
