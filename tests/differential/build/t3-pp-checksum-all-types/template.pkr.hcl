source "file" "a" {
  content = "hello\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "checksum" {
    checksum_types = ["sha512", "md5", "sha1", "sha224", "sha384", "sha256"]
    output         = "sums/{{.BuildName}}-{{.BuilderType}}.{{.ChecksumType}}"
  }
}
