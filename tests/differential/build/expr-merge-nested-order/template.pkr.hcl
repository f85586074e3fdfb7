locals {
  a = { z = { q = 1, p = 2 }, m = "a-m", b = [1] }
  b = { c = "b-c", m = "b-m", z = { r = 3 } }
  merged = merge(local.a, local.b)
}
source "file" "out" {
  content = "${jsonencode(local.merged)}\n${join(",", keys(local.merged))}\n${jsonencode(values(local.merged))}\n${jsonencode(merge(local.b, local.a))}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
