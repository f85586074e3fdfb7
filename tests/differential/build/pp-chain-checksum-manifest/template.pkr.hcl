source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processors {
    post-processor "checksum" {
      checksum_types = ["sha256", "md5"]
      output         = "a.{{.ChecksumType}}"
    }
    post-processor "manifest" {
      output = "manifest.json"
    }
  }
}
