source "file" "out" {
  target  = "out.txt"
  content = <<EOT
fileset(".", "data/*.txt") = [${jsonencode(fileset(".", "data/*.txt"))}]
fileset("data", "**") = [${jsonencode(fileset("data", "**"))}]
fileset("data", "*.{txt,md}") = [${jsonencode(fileset("data", "*.{txt,md}"))}]
fileset("data", "sub/?.txt") = [${jsonencode(fileset("data", "sub/?.txt"))}]
fileset("data", "[ab].txt") = [${jsonencode(fileset("data", "[ab].txt"))}]
fileset("data", "nomatch*") = [${jsonencode(fileset("data", "nomatch*"))}]
fileset("data", "**/*.txt") = [${jsonencode(fileset("data", "**/*.txt"))}]
fileset("data", "sub/*") = [${jsonencode(fileset("data", "sub/*"))}]
fileset("data/sub", "*") = [${jsonencode(fileset("data/sub", "*"))}]
fileset("data", "*") = [${jsonencode(fileset("data", "*"))}]
fileset(".", "data/sub/../a.txt") = [${jsonencode(fileset(".", "data/sub/../a.txt"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
