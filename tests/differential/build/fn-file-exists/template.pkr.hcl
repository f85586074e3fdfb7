source "file" "out" {
  target  = "out.txt"
  content = <<EOT
fileexists("data/a.txt") = [${fileexists("data/a.txt")}]
fileexists("data/nope.txt") = [${fileexists("data/nope.txt")}]
fileexists("./data/a.txt") = [${fileexists("./data/a.txt")}]
fileexists("data/sub/x.txt") = [${fileexists("data/sub/x.txt")}]
EOT
}

build {
  sources = ["source.file.out"]
}
