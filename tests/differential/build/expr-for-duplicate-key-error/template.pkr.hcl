locals {
  m = { for w in ["a", "b", "a"] : w => upper(w) }
}
source "file" "out" {
  content = jsonencode(local.m)
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
