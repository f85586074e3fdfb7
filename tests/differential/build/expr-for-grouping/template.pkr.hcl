locals {
  people = [
    { name = "ann", team = "red" },
    { name = "bob", team = "blue" },
    { name = "cid", team = "red" },
    { name = "dee", team = "green" },
    { name = "eve", team = "blue" },
  ]
  by_team = { for p in local.people : p.team => p.name... }
  by_len  = { for w in ["aa", "b", "cc", "d", "eee"] : "${length(w)}" => w... if w != "d" }
}
source "file" "out" {
  content = "${jsonencode(local.by_team)}\n${jsonencode(local.by_len)}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
