locals {
  v = "maybe" ? "a" : "b"
}
source "file" "out" {
  content = local.v
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
