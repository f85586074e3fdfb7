source "file" "out" {
  target  = "out.txt"
  content = <<EOT
textencodebase64("日", "ISO-8859-1") = [${textencodebase64("日", "ISO-8859-1")}]
EOT
}

build {
  sources = ["source.file.out"]
}
