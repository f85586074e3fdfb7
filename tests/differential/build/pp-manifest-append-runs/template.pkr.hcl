source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "manifest" {
    output = "existing.json"
  }
}
