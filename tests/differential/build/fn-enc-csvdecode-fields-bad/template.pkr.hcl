source "file" "out" {
  target  = "out.txt"
  content = <<EOT
csvdecode("a,b\n1,2,3\n") = [${jsonencode(csvdecode("a,b\n1,2,3\n"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
