source "file" "out" {
  target  = "out.txt"
  content = <<EOT
csvdecode("a,b\n1,2\n3,4\n") = [${jsonencode(csvdecode("a,b\n1,2\n3,4\n"))}]
csvdecode("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n") = [${jsonencode(csvdecode("a,b\n\"x,y\",\"say \"\"hi\"\"\"\n"))}]
csvdecode("a,b\n") = [${jsonencode(csvdecode("a,b\n"))}]
csvdecode("a,b\r\n1,2\r\n") = [${jsonencode(csvdecode("a,b\r\n1,2\r\n"))}]
csvdecode("h\n\n v \n") = [${jsonencode(csvdecode("h\n\n v \n"))}]
csvdecode("b,a\n1,2") = [${jsonencode(csvdecode("b,a\n1,2"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
