source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}

source "file" "b" {
  content = "b\n"
  target  = "b.txt"
}

build {
  sources = ["sources.file.a", "anything.file.b"]
}
