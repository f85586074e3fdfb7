source "file" "base" {
  content = "base content\n"
}
build {
  source "source.file.base" {
    target = "one.txt"
  }
  source "source.file.base" {
    target = "two.txt"
  }
}
