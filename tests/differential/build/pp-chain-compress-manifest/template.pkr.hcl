source "file" "a" {
  content = "compress me\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "compress" {
      output = "a.tar"
    }
    post-processor "manifest" {
      output = "manifest.json"
    }
  }
}
