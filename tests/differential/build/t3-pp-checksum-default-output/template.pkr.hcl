source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "checksum" {
  }
}
