source "file" "out" {
  target  = "out.txt"
  content = <<EOT
replace("aaa", "a", "b") = [${replace("aaa", "a", "b")}]
replace("abc", "", "-") = [${replace("abc", "", "-")}]
replace("a.b.c", ".", "") = [${replace("a.b.c", ".", "")}]
replace("héllo", "é", "e") = [${replace("héllo", "é", "e")}]
replace("aaaa", "aa", "a") = [${replace("aaaa", "aa", "a")}]
replace("", "", "x") = [${replace("", "", "x")}]
replace("a$1b", "$1", "$2") = [${replace("a$1b", "$1", "$2")}]
EOT
}

build {
  sources = ["source.file.out"]
}
