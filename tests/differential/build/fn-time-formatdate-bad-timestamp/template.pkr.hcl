source "file" "out" {
  target  = "out.txt"
  content = <<EOT
formatdate("YYYY", "2006-01-02 15:04:05") = [${formatdate("YYYY", "2006-01-02 15:04:05")}]
EOT
}

build {
  sources = ["source.file.out"]
}
