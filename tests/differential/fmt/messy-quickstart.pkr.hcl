      # Kiln's quickstart: a real virtual machine image,built locally with QEMU.
# 
# Boots a temporary VM from a small base disk image,  provisions it over SSH with the shell and
  # file provisioners, shuts it down, and keeps its disk as a compressed qcow2 image with a manifest
   # and a checksum. `scripts/quickstart` makes the base image and runs this template; by hand:
#
  #   kiln build -var base_image=PATH -var base_checksum=sha256:HEX examples/quickstart/

variable "base_image" {
   type        = string 
description  ="The disk image to start from (scripts/make-base-image makes a 25 MB one)."
}
   
variable "base_checksum" {
type  = string
default="none"
description ="Its checksum, e.g. sha256:<hex>."
} 

     locals { 
out  =  "${path.root}/output"
} 

   source "qemu" "tiny" { 
iso_url=   var.base_image
iso_checksum=   var.base_checksum
disk_image =  true
 disk_size        = "1G" 
format  =  "qcow2" 
disk_compression  =  true
headless   =  true
cpus =   1
  memory           = 512
    
ssh_username   =   "root"
ssh_password  ="kilnroot"
 ssh_timeout      = "3m" 
shutdown_command  =  "poweroff"
 
output_directory  ="${local.out}/image"
      vm_name          = "tiny.qcow2"
} 

build { 
sources=["source.qemu.tiny"] 

provisioner "shell" {
inline= [
"echo \"Hello from $(uname -sr) on $(hostname)\"",
"mkdir -p /etc/kiln",
"date -u +%Y-%m-%dT%H:%M:%SZ > /etc/kiln/built-at",
 ]
}

provisioner "file" {
source  =  "${path.root}/files/motd"
destination   =  "/etc/motd" 
}

provisioner "shell" { 
     inline = ["cat /etc/motd", "echo \"built at $(cat /etc/kiln/built-at)\""]
     }

post-processor "manifest" { 
     output = "${local.out}/manifest.json" 
}
 
post-processor "checksum" { 
checksum_types   = ["sha256"]
output =   "${local.out}/image/tiny.qcow2.{{.ChecksumType}}"
 }
    } 
