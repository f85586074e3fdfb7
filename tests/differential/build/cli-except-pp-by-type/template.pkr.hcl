source "file" "a" {
  content = "a\n"
  target  = "a.txt"
}
build {
  sources = ["source.file.a"]
  post-processor "shell-local" {
    name   = "named-pp"
    inline = ["echo named > named.txt"]
  }
  post-processor "shell-local" {
    inline = ["echo unnamed > unnamed.txt"]
  }
  post-processor "checksum" {
    checksum_types = ["md5"]
    output         = "a.{{.ChecksumType}}"
  }
}
