source "file" "a" {
  content = var.missing
  target  = "out.txt"
}
build {
  sources = ["source.file.a"]
}
