source "file" "out" {
  content = "root=${path.root}\ncwd=${path.cwd}\n"
  target  = "${path.root}/out.txt"
}
build {
  sources = ["source.file.out"]
}
