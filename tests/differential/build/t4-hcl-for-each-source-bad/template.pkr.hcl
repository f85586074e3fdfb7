source "file" "out" {
  for_each = toset(["a", "b"])
  target   = "out.txt"
  content  = "x\n"
}
build {
  sources = ["source.file.out"]
}
