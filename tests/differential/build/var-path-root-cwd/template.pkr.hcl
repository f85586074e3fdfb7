source "file" "out" {
  content = "root=${path.root}\ncwd=${path.cwd}\nrel=${path.root}/x.txt\n"
  target  = "${path.root}/out.txt"
}
build {
  sources = ["source.file.out"]
}
