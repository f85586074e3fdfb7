locals {
  a = "one"
}
locals {
  a = "two"
}
source "file" "out" {
  content = local.a
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
