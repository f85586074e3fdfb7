locals {
  a = local.b
  b = local.a
}
source "file" "out" {
  content = local.a
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
