source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
source "file" "b" {
  content = "b\n"
  target  = "sub/b.txt"
}
build {
  name    = "mf"
  sources = ["source.file.a", "source.file.b"]
  post-processor "manifest" {
    output = "manifest-${source.name}.json"
  }
}
