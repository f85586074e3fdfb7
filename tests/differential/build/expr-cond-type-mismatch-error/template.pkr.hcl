locals {
  v = true ? ["a"] : "b"
}
source "file" "out" {
  content = jsonencode(local.v)
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
