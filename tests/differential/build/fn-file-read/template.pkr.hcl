source "file" "out" {
  target  = "out.txt"
  content = <<EOT
file("data/a.txt") = [${file("data/a.txt")}]
file("data/a.txt") = [${jsonencode(file("data/a.txt"))}]
file("data/nl.txt") = [${jsonencode(file("data/nl.txt"))}]
length(file("data/uni.txt")) = [${length(file("data/uni.txt"))}]
file("./data/../data/a.txt") = [${file("./data/../data/a.txt")}]
file("data/empty.txt") = [${jsonencode(file("data/empty.txt"))}]
sha256(file("data/a.txt")) = [${sha256(file("data/a.txt"))}]
EOT
}

build {
  sources = ["source.file.out"]
}
