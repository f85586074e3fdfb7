source "file" "f" {
  content = "x"
  target  = "a.txt"
}
build {
  sources = ["source.file.f"]
  post-processors {
    post-processor "compress" {
      output = "a.tar.gz"
    }
    post-processor "checksum" {
      checksum_types = ["sha256"]
      output         = "a.{{.ChecksumType}}"
    }
  }
}
