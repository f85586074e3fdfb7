source "file" "out" {
  target  = "out.txt"
  content = templatefile("${path.root}/greeting.tpl", { name = "kiln", items = ["a", "b"] })
}
build {
  sources = ["source.file.out"]
}
