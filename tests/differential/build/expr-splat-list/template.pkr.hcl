locals {
  items = [
    { name = "one", tags = { k = "x" } },
    { name = "two", tags = { k = "y" } },
  ]
  names  = local.items[*].name
  deep   = local.items[*].tags.k
  legacy = local.items.*.name
  empty  = [][*].name
}
source "file" "out" {
  content = "${jsonencode(local.names)}\n${jsonencode(local.deep)}\n${jsonencode(local.legacy)}\n${jsonencode(local.empty)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
