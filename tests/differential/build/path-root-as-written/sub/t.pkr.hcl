source "file" "o" {
  content = "[${path.root}]\n"
  target = "out.txt"
}
build { sources = ["source.file.o"] }
