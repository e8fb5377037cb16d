# Sourced by the VM tests and benchmarks: where the offline guest image is. One variable
# places it for tools/build-guest-image, the tests and the template: LIMA_CACHE_DIR (default
# /var/cache/limad; the image is $LIMA_CACHE_DIR/images/debian-12-local). Needs $src.
image_dir=${LIMA_CACHE_DIR:-/var/cache/limad}/images/debian-12-local

# No image: a skip with what to do, or with CI=true a failure (CI must not pass by skipping).
require_image() {
        [ -f "$image_dir/disk.qcow2" ] && return 0
        if [ "${CI:-}" = true ]; then
                echo "Bail out! no guest image in $image_dir (CI=true: a missing image fails);" \
                        "run tools/build-guest-image"
                exit 1
        fi
        echo "1..0 # SKIP no guest image in $image_dir: run tools/build-guest-image"
        exit 0
}

# The templates folder list for LIMA_TEMPLATES_PATH: the shipped templates, preceded, when
# the image is elsewhere than /var/cache/limad, by a copy of debian-12-local.yaml naming
# that place (in $1, a scratch folder).
image_templates_path() {
        local dir=$1 shipped=$src/templates/debian-12-local.yaml
        local cache=${LIMA_CACHE_DIR:-/var/cache/limad}
        if [ "${cache%/}" = /var/cache/limad ]; then
                echo "$src/templates"
                return 0
        fi
        mkdir -p "$dir"
        sed "s|/var/cache/limad/|${cache%/}/|g" "$shipped" >"$dir/debian-12-local.yaml"
        chmod 0755 "$dir" && chmod 0644 "$dir/debian-12-local.yaml"
        echo "$dir:$src/templates"
}

# A failed test keeps $1 (its scratch folder) for a look, but not its disks: the logs are what
# is read, and kept disks (gigabytes each) would pile up under /tmp run after run.
prune_kept_work() {
        find "$1" -xdev -type f \( -name diffdisk -o -name basedisk -o -name '*.qcow2' \
                -o -name '*.iso' -o -name '*.img' \) -delete 2>/dev/null
        return 0
}
