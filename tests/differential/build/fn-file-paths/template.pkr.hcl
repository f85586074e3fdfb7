source "file" "out" {
  target  = "out.txt"
  content = <<EOT
basename("a/b/c.txt") = [${basename("a/b/c.txt")}]
basename("a/b/") = [${basename("a/b/")}]
basename("c.txt") = [${basename("c.txt")}]
basename("/") = [${basename("/")}]
basename("") = [${basename("")}]
basename(".") = [${basename(".")}]
basename("a/b/.hidden") = [${basename("a/b/.hidden")}]
dirname("a/b/c.txt") = [${dirname("a/b/c.txt")}]
dirname("c.txt") = [${dirname("c.txt")}]
dirname("/") = [${dirname("/")}]
dirname("a//b") = [${dirname("a//b")}]
dirname("") = [${dirname("")}]
dirname("a/b/") = [${dirname("a/b/")}]
dirname("/x") = [${dirname("/x")}]
pathexpand("a/b") = [${pathexpand("a/b")}]
pathexpand("") = [${pathexpand("")}]
trimprefix(abspath("data"), abspath(".")) = [${trimprefix(abspath("data"), abspath("."))}]
trimprefix(abspath("data/../data/./a.txt"), abspath(".")) = [${trimprefix(abspath("data/../data/./a.txt"), abspath("."))}]
abspath(".") == abspath("./") = [${abspath(".") == abspath("./")}]
EOT
}

build {
  sources = ["source.file.out"]
}
