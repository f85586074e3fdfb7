locals {
  l = [{ a = "x" }, { a = "y" }]
  t = [[1, 2], [3]]
  lens = [for x in local.t : length(x)]
  first = local.t[*][0]
}
source "file" "out" {
  content = "${jsonencode(local.l[*].a)} ${jsonencode(local.first)} ${jsonencode(local.lens)} ${jsonencode(local.l[0][*].a)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
