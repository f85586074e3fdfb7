source "file" "a" {
  content = "abc"
  target  = "a.txt"
}
build {
  name    = "ck"
  sources = ["source.file.a"]
  post-processor "checksum" {
    checksum_types = ["sha1", "sha512"]
    output         = "out/{{.BuildName}}-{{.BuilderType}}.{{.ChecksumType}}"
  }
}
