source "file" "out" {
  target  = "out.txt"
  content = <<EOT
title("hello world") = [${title("hello world")}]
title("o'neil's cat") = [${title("o'neil's cat")}]
title("hello-world foo_bar") = [${title("hello-world foo_bar")}]
title("ǆungla") = [${title("ǆungla")}]
title("élan vital") = [${title("élan vital")}]
title("ALREADY up") = [${title("ALREADY up")}]
title("  spaces  here") = [${title("  spaces  here")}]
title("123abc x1y") = [${title("123abc x1y")}]
title("a.b,c;d") = [${title("a.b,c;d")}]
title("ßtraße") = [${title("ßtraße")}]
title("") = [${title("")}]
title("i\u0307") = [${title("i\u0307")}]
EOT
}

build {
  sources = ["source.file.out"]
}
