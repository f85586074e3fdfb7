source "file" "out" {
  content = "root=${path.root}\ncwd=${path.cwd}\n"
  target  = "out.txt"
}
build {
  sources = ["source.file.out"]
}
