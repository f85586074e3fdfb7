source "file" "out" {
  target  = "out.txt"
  content = <<EOT
format("%s", "hi") = [${format("%s", "hi")}]
format("%q", "hi \"x\" <&>\n") = [${format("%q", "hi \"x\" <&>\n")}]
format("%-5s|", "ab") = [${format("%-5s|", "ab")}]
format("%5s|", "ab") = [${format("%5s|", "ab")}]
format("%.2s", "abcdef") = [${format("%.2s", "abcdef")}]
format("%5.1s|", "xyz") = [${format("%5.1s|", "xyz")}]
format("%5s|", "é") = [${format("%5s|", "é")}]
format("%-4s|", "日本") = [${format("%-4s|", "日本")}]
format("%s", 12.5) = [${format("%s", 12.5)}]
format("%s", true) = [${format("%s", true)}]
format("%t", true) = [${format("%t", true)}]
format("%t", "false") = [${format("%t", "false")}]
format("100%%") = [${format("100%%")}]
format("%%d") = [${format("%%d")}]
format("%s-%s", "a", "b") = [${format("%s-%s", "a", "b")}]
format("%[2]s %[1]s", "a", "b") = [${format("%[2]s %[1]s", "a", "b")}]
format("%[2]s %s", "a", "b", "c") = [${format("%[2]s %s", "a", "b", "c")}]
format("") = [${format("")}]
format("no verbs") = [${format("no verbs")}]
EOT
}

build {
  sources = ["source.file.out"]
}
