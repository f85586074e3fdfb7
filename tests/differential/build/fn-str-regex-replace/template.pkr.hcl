source "file" "out" {
  target  = "out.txt"
  content = <<EOT
regex_replace("hello", "l+", "L") = [${regex_replace("hello", "l+", "L")}]
regex_replace("hello world", "(\\w+) (\\w+)", "$2 $1") = [${regex_replace("hello world", "(\\w+) (\\w+)", "$2 $1")}]
regex_replace("abc", "", "-") = [${regex_replace("abc", "", "-")}]
regex_replace("aaa", "^a", "b") = [${regex_replace("aaa", "^a", "b")}]
regex_replace("x1y22z", "[0-9]", "#") = [${regex_replace("x1y22z", "[0-9]", "#")}]
EOT
}

build {
  sources = ["source.file.out"]
}
