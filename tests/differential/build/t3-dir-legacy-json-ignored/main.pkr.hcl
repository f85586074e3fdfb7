source "file" "out" {
  content = "hcl\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
