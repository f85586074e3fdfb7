source "file" "out" {
  target  = "out.txt"
  content = <<EOT
replace("hello world", "/o(.)/", "0$1") = [${replace("hello world", "/o(.)/", "0$1")}]
replace("abc", "/(?P<x>b)/", "[$x]") = [${replace("abc", "/(?P<x>b)/", "[$x]")}]
replace("aaa", "/a*/", "-") = [${replace("aaa", "/a*/", "-")}]
replace("abc", "/x*/", "-") = [${replace("abc", "/x*/", "-")}]
replace("ab", "/(a)/", "$1x") = [${replace("ab", "/(a)/", "$1x")}]
replace("ab", "/(a)/", "$$${1}x") = [${replace("ab", "/(a)/", "$${1}x")}]
replace("a-b", "/-/", "$$") = [${replace("a-b", "/-/", "$$")}]
replace("AbC", "/(?i)b/", "_") = [${replace("AbC", "/(?i)b/", "_")}]
replace("a.b", "/./", "x") = [${replace("a.b", "/./", "x")}]
replace("line1\nline2", "/(?m)^/", "> ") = [${replace("line1\nline2", "/(?m)^/", "> ")}]
replace("2020-05-06", "/(\\d+)-(\\d+)-(\\d+)/", "$3/$2/$1") = [${replace("2020-05-06", "/(\\d+)-(\\d+)-(\\d+)/", "$3/$2/$1")}]
replace("/x/", "/x/", "y") = [${replace("/x/", "/x/", "y")}]
replace("/", "/", "y") = [${replace("/", "/", "y")}]
EOT
}

build {
  sources = ["source.file.out"]
}
