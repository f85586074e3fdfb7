source "file" "out" {
  target  = "out.txt"
  content = <<EOT
formatdate("YYY", "2006-01-02T15:04:05Z") = [${formatdate("YYY", "2006-01-02T15:04:05Z")}]
EOT
}

build {
  sources = ["source.file.out"]
}
