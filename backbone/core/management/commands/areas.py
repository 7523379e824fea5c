from backbone.core.area_import import areas_import
from backbone.core.management.import_command import ImportCommand


class Command(ImportCommand):
    help = "Manage a network's areas: `areas import FILE --network SLUG`."
    entity = "areas"
    importer = staticmethod(areas_import)
