from backbone.core.management.import_command import ImportCommand
from backbone.partners.importing import partners_import


class Command(ImportCommand):
    help = "Manage a network's partners: `partners import FILE --network SLUG`."
    entity = "partners"
    importer = staticmethod(partners_import)
