source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%v", "str") = [${format("%v", "str")}]
format("%v", 12) = [${format("%v", 12)}]
format("%v", true) = [${format("%v", true)}]
format("%v", [1, "a"]) = [${format("%v", [1, "a"])}]
format("%v", {b = 1, a = "x"}) = [${format("%v", {b = 1, a = "x"})}]
format("%#v", "str") = [${format("%#v", "str")}]
format("%#v", 12) = [${format("%#v", 12)}]
format("%#v", [1, 2]) = [${format("%#v", [1, 2])}]
format("%#v", {k = [true]}) = [${format("%#v", {k = [true]})}]
format("%v", null) = [${format("%v", null)}]
format("%#v", null) = [${format("%#v", null)}]
format("%5v|", 3) = [${format("%5v|", 3)}]
format("%-6v|", "ab") = [${format("%-6v|", "ab")}]
EOT
}

build {
  sources = ["source.file.out"]
}
