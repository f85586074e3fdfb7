source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "compress" {
      output = "a.zip"
    }
    post-processor "manifest" {
      output     = "manifest.json"
      strip_path = true
    }
  }
}
