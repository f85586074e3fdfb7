source "file" "base" {
  content = "base content\n"
  target  = "base.txt"
}
build {
  sources = ["source.file.missing"]
}
