variable "nickname" {
    type    = string
}

locals {
    # The home directory (depends on the base AMI that its being used)
    home_directory = "/home/admin"

    # Ansible directory (Contains the variable files and template files)
    ansible_directory = "${local.home_directory}/ansible/"
}

# Reduced: the original amazon-ebs "jenkins" source, the packer { required_plugins } block,
# the variables only they use and the file/shell provisioners around this one are left out;
# a null source stands in.
source "null" "jenkins" {
    ssh_host     = "192.0.2.10"
    ssh_username = "admin"
    ssh_password = "unused"
}

build {
    sources = ["source.null.jenkins"]

    provisioner "ansible-local" {
        # This is a workaround to copy over ./ansible_jenkins_node/ 
        # to the target directory without executing anything we don't want.
        playbook_dir  = "./ansible_jenkins_node/"
        playbook_file = "./ansible_jenkins_node/playbooks/utility-do-nothing.yml"
        # # Make sure the uploads use SFTP
        # # This is to help get around the issue where ansible.cfg's 
        # # "[default]" snippet causes rawSCP to choke up and throw and error
        # use_sftp      = true
        # # Run as your SSH user
        # run_as_user   = "admin"
        # Upload everything into ${local.ansible_directory} instead
        staging_directory = "${local.ansible_directory}"
        # keep it around if you need to inspect it afterwards
        clean_staging_directory = false
    }

    # Send the output to manifest.json
    post-processor "manifest" {
        output = "jenkins_manifest.json"
    }
}
