#include "data/catalog_vocabulary.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <string_view>

#include "core/error.h"
#include "core/stable_hash.h"

namespace recsys::data {
namespace {

// A leaf written compactly: lists are separated by ';', alternatives within an item by '|'.
// nouns: product types, each a list of synonyms; attributes: groups of exclusive phrases;
// sizes: alternatives; complements: names of other leaves (the last part of their path).
struct LeafSpec {
  const char* path;
  int weight;
  float price_low, price_high;
  bool coloured;
  const char* nouns;
  const char* attributes;
  const char* sizes;
  const char* complements;
};

// Weights roughly follow how many products each kind of shop lists; price ranges are what a
// shopper would expect to pay for most items of the kind.
constexpr LeafSpec kLeaves[] = {
    // Electronics
    {"Electronics > Audio > Headphones", 5, 15, 300, true,
     "headphones|headset|earphones;earbuds|ear buds|in ear headphones",
     "wireless|wired;noise cancelling;over ear|on ear;with microphone;bluetooth;foldable;"
     "sports|gaming;waterproof",
     "", "Chargers;Cables"},
    {"Electronics > Audio > Speakers", 3, 20, 400, true,
     "bluetooth speaker|portable speaker|speaker;soundbar|sound bar;smart speaker",
     "waterproof;portable;stereo|360 degree sound;rechargeable;outdoor;with subwoofer;party",
     "2-pack", "Cables;Chargers"},
    {"Electronics > Accessories > Cables", 3, 5, 30, true,
     "hdmi cable|hdmi cord;aux cable|audio cable|3.5mm cable;ethernet cable|network cable|lan "
     "cable",
     "braided;gold plated;6 ft|10 ft|3 ft|25 ft;right angle;high speed;cat 6|cat 8",
     "2-pack|3-pack", ""},
    {"Electronics > Accessories > Chargers", 4, 8, 60, true,
     "charger|wall charger|charging block|power adapter;charging cable|charger cord;power "
     "bank|portable charger|battery pack",
     "usb c|lightning|micro usb;fast charging;20w|30w|65w|100w;wireless;multi "
     "port;10000mah|20000mah",
     "2-pack|3-pack", "Smartphones"},
    {"Electronics > Cell Phones > Smartphones", 4, 100, 1200, true,
     "smartphone|cell phone|mobile phone|phone",
     "unlocked;5g;dual sim;64gb|128gb|256gb|512gb;renewed", "",
     "Phone Cases;Screen Protectors;Chargers"},
    {"Electronics > Cell Phones > Phone Cases", 5, 6, 40, true,
     "phone case|case|cover;wallet case|flip case|folio case",
     "shockproof;slim;silicone|leather|tpu;clear|glitter;magnetic;kickstand", "",
     "Screen Protectors"},
    {"Electronics > Cell Phones > Screen Protectors", 2, 5, 20, false,
     "screen protector|screen guard;privacy screen protector",
     "tempered glass;anti glare;bubble free;9h hardness;case friendly", "2-pack|3-pack",
     "Phone Cases"},
    {"Electronics > Computers > Laptops", 3, 250, 2500, true,
     "laptop|notebook computer|laptop computer;chromebook",
     "8gb ram|16gb ram|32gb ram;256gb ssd|512gb ssd|1tb ssd;touchscreen;14 inch|15.6 inch|17 inch;"
     "gaming;lightweight;backlit keyboard",
     "", "Laptop Bags;Computer Mice;Keyboards"},
    {"Electronics > Computers > Computer Mice", 3, 8, 120, true, "mouse|computer mouse;trackball",
     "wireless|wired;ergonomic;gaming;rgb;silent click;rechargeable;bluetooth;vertical", "",
     "Keyboards;Batteries"},
    {"Electronics > Computers > Keyboards", 3, 15, 200, true,
     "keyboard|computer keyboard;keyboard and mouse combo|keyboard mouse set",
     "mechanical;wireless|wired;rgb backlit;ergonomic;compact|full size;bluetooth;quiet", "",
     "Computer Mice"},
    {"Electronics > Computers > Monitors", 2, 100, 900, false,
     "monitor|computer monitor|computer screen|display",
     "24 inch|27 inch|32 inch|34 inch;4k|1440p|1080p;144hz|165hz|75hz;curved;ips;ultrawide;"
     "with speakers",
     "", "Cables;Desks"},
    {"Electronics > Computers > Laptop Bags", 2, 20, 120, true,
     "laptop bag|laptop case|computer bag;laptop backpack|computer backpack",
     "waterproof;anti theft;15.6 inch|17 inch|13 inch;usb charging port;slim;leather", "",
     "Laptops"},
    {"Electronics > Television & Video > Televisions", 3, 150, 2500, false,
     "tv|television|smart tv",
     "32 inch|43 inch|55 inch|65 inch|75 inch;4k uhd|1080p;oled|qled|led;"
     "hdr;roku|fire tv|google tv",
     "", "TV Mounts;Cables"},
    {"Electronics > Television & Video > TV Mounts", 2, 20, 150, false,
     "tv mount|tv wall mount|tv bracket;tv stand|tv base",
     "full motion|tilting|fixed;heavy duty;for 32-70 inch tvs;swivel;low profile", "",
     "Televisions"},
    {"Electronics > Camera & Photo > Security Cameras", 3, 25, 250, true,
     "security camera|surveillance camera|ip camera;doorbell camera|video doorbell",
     "wireless|wired;outdoor|indoor;1080p|2k|4k;night vision;motion detection;two way audio;"
     "solar powered",
     "2-pack|4-pack", "Memory Cards"},
    {"Electronics > Camera & Photo > Memory Cards", 2, 6, 60, false,
     "memory card|sd card;micro sd card|microsd card|tf card",
     "32gb|64gb|128gb|256gb|512gb;uhs-i|uhs-ii;class 10;with adapter", "2-pack|5-pack",
     "Security Cameras;Dash Cams"},
    // Home & Kitchen
    {"Home & Kitchen > Furniture > Sofas", 2, 200, 1500, true,
     "sofa|couch|settee;loveseat|love seat;sectional sofa|sectional couch",
     "sleeper|reclining;mid century modern;velvet|leather|linen;convertible;l shaped;3 seater", "",
     "Throw Pillows"},
    {"Home & Kitchen > Home Decor > Throw Pillows", 2, 10, 50, true,
     "throw pillow|decorative pillow|accent pillow;pillow covers|cushion covers",
     "velvet|linen|faux fur;boho;outdoor;with insert;striped|floral|solid", "18x18 inch|20x20 inch",
     "Sofas"},
    {"Home & Kitchen > Bedding > Sheet Sets", 3, 20, 150, true,
     "sheet set|bed sheets|sheets;fitted sheet;pillowcases|pillow cases",
     "egyptian cotton|microfiber|bamboo|linen;deep pocket;1000 thread count|400 thread count;"
     "cooling;wrinkle free",
     "twin size|full size|queen size|king size", "Bed Pillows"},
    {"Home & Kitchen > Bedding > Bed Pillows", 3, 15, 80, false, "pillow|bed pillow|pillows",
     "memory foam|shredded foam|down alternative|feather;cooling;hypoallergenic;side sleeper",
     "2-pack|4-pack|queen size|king size", "Sheet Sets"},
    {"Home & Kitchen > Kitchen & Dining > Cookware", 4, 20, 300, true,
     "cookware set|pots and pans set|pot and pan set;frying pan|skillet|fry pan;dutch oven",
     "nonstick|stainless steel|cast iron|ceramic;induction compatible;dishwasher safe;"
     "10 piece|12 piece;oven safe",
     "8 inch|10 inch|12 inch", "Kitchen Utensils"},
    {"Home & Kitchen > Kitchen & Dining > Kitchen Utensils", 4, 10, 100, true,
     "kitchen utensil set|utensils|cooking utensils;spatula|turner;knife set|kitchen knives",
     "silicone|stainless steel|wooden;heat resistant;with holder;dishwasher safe",
     "5 piece|12 piece", "Cookware"},
    {"Home & Kitchen > Kitchen & Dining > Coffee Makers", 2, 20, 600, true,
     "coffee maker|coffee machine|coffee brewer;espresso machine|espresso maker;french "
     "press|coffee press",
     "programmable;12 cup|5 cup|single serve;with grinder;thermal carafe;stainless steel", "",
     "Coffee"},
    {"Home & Kitchen > Kitchen & Dining > Water Bottles", 3, 8, 50, true,
     "water bottle|drink bottle;tumbler|travel mug|insulated cup",
     "insulated;stainless steel|plastic|glass;bpa free;leak proof;with straw;with handle",
     "20 oz|32 oz|40 oz|64 oz", ""},
    {"Home & Kitchen > Storage & Organization > Storage Bins", 3, 10, 60, true,
     "storage bins|storage boxes|storage containers;drawer organizer|drawer dividers",
     "stackable;collapsible|foldable;with lids;fabric|clear plastic|bamboo;with handles",
     "3-pack|4-pack|6-pack", ""},
    {"Home & Kitchen > Home Decor > Curtains", 2, 15, 80, true,
     "curtains|drapes|window curtains;curtain rod|drapery rod",
     "blackout|sheer;thermal insulated;grommet|rod pocket;linen|velvet", "63 inch|84 inch|96 inch",
     ""},
    {"Home & Kitchen > Vacuums & Floor Care > Vacuums", 2, 50, 700, true,
     "vacuum cleaner|vacuum|hoover;robot vacuum|robotic vacuum;stick vacuum|cordless vacuum",
     "cordless|corded;bagless;pet hair;lightweight;self emptying;hepa filter", "", ""},
    // Clothing, Shoes & Jewelry
    {"Clothing, Shoes & Jewelry > Men > T-Shirts", 4, 8, 40, true,
     "t-shirt|tee|tshirt;polo shirt|polo",
     "cotton|polyester;crew neck|v neck;short sleeve|long sleeve;slim fit|regular fit;"
     "moisture wicking;graphic",
     "small|medium|large|x-large|xx-large|3-pack", "Jeans"},
    {"Clothing, Shoes & Jewelry > Men > Jeans", 3, 20, 90, true, "jeans|denim jeans|denim pants",
     "slim fit|straight leg|relaxed fit|skinny|bootcut;stretch;distressed",
     "30w x 30l|32w x 30l|32w x 32l|34w x 32l|36w x 32l", "T-Shirts"},
    {"Clothing, Shoes & Jewelry > Women > Dresses", 4, 20, 120, true,
     "dress|sundress;maxi dress|long dress;cocktail dress|party dress",
     "floral;sleeveless|long sleeve|short sleeve;v neck;casual|formal;summer;wrap;with pockets",
     "small|medium|large|x-large", "Necklaces"},
    {"Clothing, Shoes & Jewelry > Women > Leggings", 3, 10, 50, true,
     "leggings|yoga pants|workout leggings",
     "high waisted;tummy control;with pockets;squat proof;fleece lined;capri|full length",
     "small|medium|large|x-large|3-pack", ""},
    {"Clothing, Shoes & Jewelry > Shoes > Running Shoes", 3, 30, 180, true,
     "running shoes|sneakers|trainers;walking shoes",
     "lightweight;breathable;non slip;cushioned;wide;mesh;memory foam",
     "size 7|size 8|size 9|size 10|size 11|size 12", "Socks"},
    {"Clothing, Shoes & Jewelry > Shoes > Boots", 2, 40, 250, true,
     "boots|ankle boots|booties;rain boots|wellies;work boots",
     "waterproof;leather|suede|rubber;steel toe;chelsea|lace up;insulated;slip resistant",
     "size 7|size 8|size 9|size 10|size 11", "Socks"},
    {"Clothing, Shoes & Jewelry > Accessories > Socks", 2, 8, 30, true,
     "socks|crew socks;ankle socks|low cut socks|no show socks",
     "cotton|wool|bamboo;cushioned;athletic;compression", "6-pack|10-pack|12-pack", ""},
    {"Clothing, Shoes & Jewelry > Accessories > Watches", 2, 20, 400, true,
     "watch|wrist watch|wristwatch;smartwatch|smart watch|fitness tracker",
     "analog|digital;waterproof;stainless steel|leather band|silicone band;chronograph;"
     "heart rate monitor",
     "", "Chargers"},
    {"Clothing, Shoes & Jewelry > Jewelry > Necklaces", 2, 10, 200, true,
     "necklace|pendant necklace|chain;choker",
     "sterling silver|14k gold plated|stainless steel;heart;personalized;layered;cubic zirconia",
     "16 inch|18 inch|20 inch", "Earrings"},
    {"Clothing, Shoes & Jewelry > Jewelry > Earrings", 2, 8, 150, true,
     "earrings|stud earrings|studs;hoop earrings|hoops",
     "sterling silver|14k gold|stainless steel;hypoallergenic;pearl;dangle;cubic zirconia", "",
     "Necklaces"},
    // Sports & Outdoors
    {"Sports & Outdoors > Exercise & Fitness > Yoga Mats", 2, 15, 80, true,
     "yoga mat|exercise mat|workout mat",
     "non slip;extra thick;eco friendly;with carrying strap;"
     "tpe|pvc|natural rubber",
     "1/4 inch|1/2 inch", "Resistance Bands;Dumbbells"},
    {"Sports & Outdoors > Exercise & Fitness > Dumbbells", 2, 15, 400, true,
     "dumbbells|dumbbell set|hand weights;kettlebell",
     "adjustable;neoprene|rubber coated|cast iron;hex", "5 lb|10 lb|15 lb|20 lb|25 lb|50 lb|pair",
     "Yoga Mats"},
    {"Sports & Outdoors > Exercise & Fitness > Resistance Bands", 2, 8, 40, true,
     "resistance bands|exercise bands|workout bands;pull up bands",
     "with handles;fabric|latex;heavy;for legs and glutes", "set of 5|3-pack", "Yoga Mats"},
    {"Sports & Outdoors > Outdoor Recreation > Tents", 2, 40, 500, true,
     "tent|camping tent;backpacking tent;pop up canopy|canopy tent",
     "2 person|4 person|6 person|8 person;waterproof;instant|easy setup;with rainfly;ultralight",
     "", "Sleeping Bags"},
    {"Sports & Outdoors > Outdoor Recreation > Sleeping Bags", 2, 20, 200, true,
     "sleeping bag;sleeping pad|camping mat|sleeping mat",
     "0 degree|20 degree|40 degree;lightweight;mummy|rectangular;compact;for adults|for kids", "",
     "Tents"},
    {"Sports & Outdoors > Cycling > Bike Accessories", 2, 10, 100, true,
     "bike helmet|bicycle helmet|cycling helmet;bike lock|bicycle lock;bike light|bicycle light",
     "for adults|for kids;led;usb rechargeable;heavy duty;adjustable", "", ""},
    // Beauty & Personal Care
    {"Beauty & Personal Care > Skin Care > Moisturizers", 3, 8, 80, false,
     "moisturizer|face cream|facial moisturizer;night cream;face lotion",
     "hyaluronic acid|retinol|vitamin c;spf 30;for dry skin|for oily skin;oil free;fragrance free;"
     "anti aging",
     "1.7 oz|2 oz|50 ml", "Cleansers"},
    {"Beauty & Personal Care > Skin Care > Cleansers", 2, 6, 40, false,
     "face wash|facial cleanser|cleanser;makeup remover|micellar water",
     "foaming|gentle;salicylic acid;for oily skin|for dry skin;hydrating;exfoliating",
     "8 oz|16 oz|2-pack", "Moisturizers"},
    {"Beauty & Personal Care > Hair Care > Shampoo", 3, 6, 40, false,
     "shampoo;conditioner;shampoo and conditioner set",
     "sulfate free;for curly hair|for fine hair;anti dandruff;argan oil|tea tree|biotin;"
     "volumizing;color safe",
     "12 oz|32 oz|2-pack", "Hair Dryers"},
    {"Beauty & Personal Care > Hair Care > Hair Dryers", 2, 20, 300, true,
     "hair dryer|blow dryer|hairdryer;hair straightener|flat iron;curling iron|curling wand",
     "ionic;ceramic|tourmaline;with diffuser;professional;travel;1875w", "", "Shampoo"},
    {"Beauty & Personal Care > Makeup > Lipstick", 2, 5, 40, true,
     "lipstick|lip color;lip gloss;lip liner",
     "matte|glossy|satin;long lasting;waterproof;moisturizing;liquid", "3-pack", ""},
    {"Beauty & Personal Care > Oral Care > Electric Toothbrushes", 2, 15, 200, true,
     "electric toothbrush|power toothbrush|sonic toothbrush;toothbrush heads|replacement brush "
     "heads",
     "rechargeable;with travel case;5 modes|3 modes;pressure sensor;soft bristles", "4-pack|8-pack",
     ""},
    // Toys & Games
    {"Toys & Games > Building Toys > Building Sets", 2, 15, 150, true,
     "building blocks|building set|building bricks;magnetic tiles|magnet blocks",
     "stem;educational;creative;compatible with major brands;for kids 6-12|for toddlers",
     "100 pieces|500 pieces|1000 pieces", ""},
    {"Toys & Games > Games > Board Games", 2, 10, 60, false,
     "board game|family game;card game;"
     "jigsaw puzzle|puzzle",
     "for adults|for kids|for families;party;strategy;2-4 players;1000 piece|500 piece", "", ""},
    {"Toys & Games > Stuffed Animals > Plush Toys", 2, 8, 60, true,
     "stuffed animal|plush toy|plushie;teddy bear", "soft;giant;cute;weighted;unicorn|dinosaur|cat",
     "8 inch|12 inch|24 inch", ""},
    {"Toys & Games > Remote Control > RC Vehicles", 2, 25, 300, true,
     "rc car|remote control car;drone|quadcopter",
     "4wd;off road;high speed;with camera;rechargeable;for kids|for adults;1:16 scale|1:10 scale",
     "", "Batteries"},
    {"Toys & Games > Arts & Crafts > Markers & Crayons", 2, 5, 40, false,
     "markers|felt tip pens;crayons;colored pencils|coloring pencils",
     "washable;non toxic;dual tip|fine tip;for kids|for adults",
     "24 count|48 count|64 count|120 count", ""},
    // Tools & Home Improvement
    {"Tools & Home Improvement > Power Tools > Drills", 2, 30, 300, true,
     "drill|cordless drill|power drill;impact driver;drill bit set|drill bits",
     "12v|20v;brushless;with battery;with charger;compact;hammer", "", "Tool Sets;Batteries"},
    {"Tools & Home Improvement > Hand Tools > Tool Sets", 2, 15, 200, true,
     "tool set|tool kit|toolbox;screwdriver set|screwdrivers;socket set|wrench set",
     "household|mechanics;metric|sae;magnetic;with case", "39 piece|100 piece|200 piece", "Drills"},
    {"Tools & Home Improvement > Lighting > Light Bulbs", 3, 5, 50, false,
     "light bulbs|led bulbs|bulbs;smart bulb|wifi bulb",
     "dimmable;daylight|soft white|warm white;60w equivalent|100w equivalent;a19|br30;e26;"
     "color changing",
     "4-pack|6-pack|12-pack|24-pack", "Smart Plugs"},
    {"Tools & Home Improvement > Electrical > Power Strips", 2, 8, 50, true,
     "power strip|surge protector;extension cord|extension cable",
     "6 outlets|8 outlets|12 outlets;6 ft|10 ft|25 ft;usb ports;heavy duty;outdoor;flat plug", "",
     ""},
    {"Tools & Home Improvement > Smart Home > Smart Plugs", 2, 8, 50, true,
     "smart plug|wifi plug|smart outlet;smart switch|wifi light switch",
     "works with alexa;energy monitoring;2.4ghz;mini;outdoor", "2-pack|4-pack", "Light Bulbs"},
    // Pet Supplies
    {"Pet Supplies > Dogs > Dog Food", 3, 10, 90, false,
     "dog food|dry dog food|kibble;wet dog food|canned dog food;dog treats",
     "grain free;chicken|salmon|beef|lamb;puppy|adult|senior;high protein;small breed|large breed;"
     "natural",
     "5 lb bag|15 lb bag|30 lb bag|12-pack", "Dog Toys;Dog Beds"},
    {"Pet Supplies > Dogs > Dog Beds", 2, 20, 200, true, "dog bed|pet bed;dog crate|dog kennel",
     "orthopedic;washable;calming;waterproof;memory foam", "small|medium|large|x-large",
     "Dog Food"},
    {"Pet Supplies > Dogs > Dog Toys", 2, 5, 30, true,
     "dog toy|chew toy;dog ball|tennis balls for dogs",
     "squeaky;indestructible;interactive;for aggressive chewers;rope;puzzle", "3-pack|5-pack",
     "Dog Food"},
    {"Pet Supplies > Cats > Cat Litter", 2, 10, 200, false,
     "cat litter|kitty litter;litter box|cat litter box",
     "clumping;unscented|scented;odor control;self cleaning;low dust;covered", "20 lb|40 lb",
     "Cat Toys"},
    {"Pet Supplies > Cats > Cat Toys", 2, 6, 150, true,
     "cat toy|cat toys;cat tree|cat tower|cat condo;scratching post|cat scratcher",
     "interactive;catnip;feather;with sisal;multi level", "", "Cat Litter"},
    // Office Products
    {"Office Products > Writing > Pens", 2, 5, 30, false,
     "pens|ballpoint pens|ink pens;gel pens;"
     "highlighters|highlighter markers",
     "black ink|blue ink|assorted colors;fine point|medium point;retractable;quick dry",
     "12-pack|24-pack|36-pack", "Notebooks"},
    {"Office Products > Paper > Notebooks", 2, 5, 30, true,
     "notebook|spiral notebook|composition notebook;journal|diary;sticky notes|post it notes",
     "college ruled|wide ruled|dotted|blank;hardcover;a5;100 sheets|200 sheets", "3-pack|6-pack",
     "Pens"},
    {"Office Products > Office Furniture > Office Chairs", 2, 60, 500, true,
     "office chair|desk chair|computer chair;gaming chair",
     "ergonomic;mesh|leather;with lumbar support;adjustable;high back;reclining;with footrest", "",
     "Desks"},
    {"Office Products > Office Furniture > Desks", 2, 60, 700, true,
     "desk|computer desk|office desk;standing desk|sit stand desk|adjustable desk",
     "electric;l shaped;with drawers;small;height adjustable;wooden", "40 inch|48 inch|55 inch",
     "Office Chairs;Monitors"},
    {"Office Products > Printers > Printers & Ink", 2, 15, 400, false,
     "printer|all in one printer;ink cartridges|printer ink;toner cartridge|toner",
     "wireless;color|black and white;laser|inkjet;high yield;compatible", "2-pack|4-pack", ""},
    // Grocery & Gourmet Food
    {"Grocery & Gourmet Food > Beverages > Coffee", 3, 8, 45, false,
     "coffee|ground coffee;coffee beans|whole bean coffee;k cups|coffee pods",
     "dark roast|medium roast|light roast;decaf;organic;colombian|espresso|french roast",
     "12 oz|2 lb|24 count|72 count", "Coffee Makers"},
    {"Grocery & Gourmet Food > Beverages > Tea", 2, 4, 30, false,
     "tea|tea bags;green tea;herbal tea",
     "organic;decaf;chamomile|matcha|earl grey|peppermint;caffeine free",
     "20 count|100 count|6-pack", ""},
    {"Grocery & Gourmet Food > Snack Foods > Chips & Nuts", 3, 5, 40, false,
     "chips|potato chips|crisps;mixed nuts|nuts;almonds",
     "salted|unsalted|sea salt;roasted;variety pack;kettle cooked;gluten free", "40 count|2 lb",
     ""},
    {"Grocery & Gourmet Food > Pantry > Cooking Oils", 2, 6, 40, false,
     "olive oil|extra virgin olive oil;avocado oil;coconut oil",
     "cold pressed;organic;unrefined;spray", "16.9 oz|1 liter|2-pack", ""},
    // Automotive
    {"Automotive > Car Electronics > Dash Cams", 2, 30, 250, false,
     "dash cam|dashboard camera|car camera",
     "front and rear;4k|2k|1080p;night vision;loop recording;wifi;parking mode", "",
     "Memory Cards"},
    {"Automotive > Car Care > Car Cleaning", 2, 8, 60, false,
     "car wash soap|car shampoo;microfiber towels|car drying towel;car vacuum|handheld car vacuum",
     "ph neutral;lint free;wax|ceramic;cordless", "6-pack|1 gallon", ""},
    {"Automotive > Interior Accessories > Phone Mounts", 2, 8, 50, true,
     "phone mount|car phone holder|phone holder for car",
     "magnetic;dashboard|air vent|windshield;wireless charging;360 rotation", "",
     "Smartphones;Chargers"},
    {"Automotive > Interior Accessories > Floor Mats", 2, 20, 150, true,
     "floor mats|car floor mats|car mats;seat covers|car seat covers",
     "all weather;universal fit;heavy duty;rubber|leather|fabric;front and rear", "", ""},
    // Health & Household
    {"Health & Household > Household Batteries > Batteries", 2, 6, 40, false,
     "batteries|aa batteries|double a batteries;aaa batteries|triple a batteries;rechargeable "
     "batteries",
     "alkaline|lithium;long lasting;high capacity", "8-pack|16-pack|24-pack|48-pack", ""},
    {"Health & Household > Household Supplies > Paper Products", 3, 8, 40, false,
     "paper towels|kitchen towels;toilet paper|bath tissue;facial tissues|tissues",
     "2 ply|3 ply;mega rolls|double rolls;recycled;septic safe", "6 rolls|12 rolls|24 rolls|8-pack",
     ""},
    {"Health & Household > Vitamins & Supplements > Vitamins", 3, 8, 45, false,
     "multivitamin|vitamins;vitamin d3|vitamin d;fish oil|omega 3",
     "for women|for men|for kids;gummies|capsules|tablets;5000 iu|1000 mg;vegan;non gmo",
     "60 count|120 count|365 count", ""},
};

// Query-only paraphrases: per leaf (by the last part of its path) and per product type (in the
// order of its nouns, ';'-separated), phrases shoppers type that no title of the leaf contains:
// no word of them is a word of the leaf's nouns, attributes, sizes, brands or of any colour.
// Paraphrase queries (GeneratorOptions::paraphrase_share) are written with them, so a lexical
// matcher misses them while a model trained on other queries with the same phrase need not.
struct ParaphraseSpec {
  const char* leaf;
  const char* paraphrases;
};
constexpr ParaphraseSpec kParaphrases[] = {
    {"Headphones", "cans;airpods|earpods"},
    {"Speakers", "boombox|jambox;home theater;echo dot"},
    {"Cables", "tv wire;headphone jack wire|stereo lead;internet wire|rj45 lead"},
    {"Chargers", "brick;phone wire;mophie|juice box"},
    {"Smartphones", "iphone|android"},
    {"Phone Cases", "otterbox|bumper;card holder"},
    {"Screen Protectors", "display film;spy shield"},
    {"Laptops", "macbook|ultrabook;school pc"},
    {"Computer Mice", "clicker|pointing device;thumb roller"},
    {"Keyboards", "keypad;typing bundle"},
    {"Monitors", "lcd panel"},
    {"Laptop Bags", "messenger|briefcase;rucksack|knapsack"},
    {"Televisions", "telly|flatscreen"},
    {"TV Mounts", "flatscreen hanger;media console|entertainment center"},
    {"Security Cameras", "cctv|nanny cam;door ringer"},
    {"Memory Cards", "camera storage;flash chip"},
    {"Sofas", "davenport|chesterfield;cuddle chair;corner lounge"},
    {"Throw Pillows", "couch bolster;shams"},
    {"Sheet Sets", "bedclothes;mattress wrap;slips"},
    {"Bed Pillows", "sleep cushion"},
    {"Cookware", "saucepans;griddle;casserole|braiser"},
    {"Kitchen Utensils", "ladles;flipper;cutlery block|chef blades"},
    {"Coffee Makers", "percolator;cappuccino station;cafetiere|plunger pot"},
    {"Water Bottles", "hydro flask|canteen;yeti|thermos"},
    {"Storage Bins", "totes|cubbies;junk tray"},
    {"Curtains", "valance;hanging pole"},
    {"Vacuums", "carpet sweeper|dirt devil;roomba;dyson"},
    {"T-Shirts", "undershirt;golf top|collared top"},
    {"Jeans", "levis|dungarees"},
    {"Dresses", "frock;floor length gown;evening gown"},
    {"Leggings", "tights|jeggings"},
    {"Running Shoes", "kicks;strolling footwear"},
    {"Boots", "uggs|doc martens;galoshes;construction footwear"},
    {"Socks", "hosiery;footies|invisible liners"},
    {"Watches", "timepiece;fitbit|apple wearable"},
    {"Necklaces", "locket|lavalier;collar jewelry"},
    {"Earrings", "piercings;huggies"},
    {"Yoga Mats", "pilates pad"},
    {"Dumbbells", "barbells;girya"},
    {"Resistance Bands", "stretch loops|therabands;chinning assist"},
    {"Tents", "shelter;trekking bivy;gazebo|sun shade"},
    {"Sleeping Bags", "bedroll;air mattress|thermarest"},
    {"Bike Accessories", "skid lid;padlock;headlamp|tail lamp"},
    {"Moisturizers", "complexion hydrator;overnight balm;daily emulsion"},
    {"Cleansers", "complexion soap;mascara wipes"},
    {"Shampoo", "scalp lather;detangler|rinse;wash duo kit"},
    {"Hair Dryers", "blowout gun;ghd;ringlet maker|waver"},
    {"Lipstick", "rouge|lippie;shine balm;contour pencil"},
    {"Electric Toothbrushes", "oral b|sonicare;sonicare refills"},
    {"Building Sets", "lego|duplo;magnatiles"},
    {"Board Games", "monopoly|scrabble;uno|poker deck;brain teaser"},
    {"Plush Toys", "squishmallow|cuddly critter;cuddly cub"},
    {"RC Vehicles", "monster truck|radio buggy;uav|dji"},
    {"Markers & Crayons", "sharpies;crayola;prismacolor"},
    {"Drills", "dewalt|screw gun;impactor;auger tips"},
    {"Tool Sets", "handyman essentials;phillips|flathead;ratchet|spanners"},
    {"Light Bulbs", "lamp globes;philips hue"},
    {"Power Strips", "socket bar;long lead"},
    {"Smart Plugs", "kasa|app controlled socket;lutron toggle"},
    {"Dog Food", "chow|purina;canine stew;milkbones|pup snacks"},
    {"Dog Beds", "doggy mattress;pup cage"},
    {"Dog Toys", "kong|pup plaything;fetch thrower|chuckit"},
    {"Cat Litter", "feline sand;feline potty"},
    {"Cat Toys", "kitten teaser;feline climber;claw pad"},
    {"Pens", "biros|bic;rollerballs;text liners"},
    {"Notebooks", "jotter;planner;memo stickers"},
    {"Office Chairs", "task seat;dxracer|racer seat"},
    {"Desks", "workstation|writing table;varidesk|riser table"},
    {"Printers & Ink", "copier|scanner;hp refills|epson refills;laserjet powder"},
    {"Coffee", "java|joe;arabica|robusta;keurig|nespresso"},
    {"Tea", "chai;sencha|gyokuro;tisane|rooibos"},
    {"Chips & Nuts", "lays|pringles;trail mix;marcona"},
    {"Cooking Oils", "evoo;frying fat;copha"},
    {"Dash Cams", "driving recorder|dvr"},
    {"Car Cleaning", "auto detergent;chamois|shammy;dustbuster"},
    {"Phone Mounts", "iphone cradle|gps cradle"},
    {"Floor Mats", "weathertech|carpet liners;upholstery slipcovers"},
    {"Batteries", "duracell|energizer;micro cells;eneloop"},
    {"Paper Products", "bounty;charmin|loo roll;kleenex"},
    {"Vitamins", "centrum|daily supplement;cholecalciferol;krill|cod liver"},
};

// Colours with synonyms, the usual title word first.
constexpr const char* kColours[] = {
    "black",
    "white",
    "grey|gray",
    "silver",
    "gold",
    "rose gold",
    "red",
    "blue",
    "navy|navy blue|dark blue",
    "green",
    "olive|olive green|army green",
    "yellow",
    "orange",
    "pink",
    "purple|violet",
    "brown|chocolate",
    "beige|tan|khaki",
    "clear|transparent",
    "multicolor|multicolour|multi color",
    "teal|turquoise",
};

// Brand names are syllable strings. The pool is split evenly between departments, and each leaf
// draws its brands from its department's share, so brands overlap between neighbouring leaves
// (one brand makes headphones and speakers) but rarely across departments.
constexpr int kBrandCount = 3000;
constexpr const char* kOnsets[] = {"b",  "c",  "d",  "f",  "g",  "h",  "j",  "k",  "l",  "m",
                                   "n",  "p",  "r",  "s",  "t",  "v",  "z",  "br", "cr", "dr",
                                   "fl", "gr", "kl", "pr", "st", "tr", "qu", "sh", "ch", "x"};
constexpr const char* kVowels[] = {"a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "y"};
constexpr const char* kCodas[] = {"", "", "", "n", "r", "x", "l", "m", "s", "ck", "nt", "rk", "v"};
constexpr const char* kSuffixes[] = {"tech", "ly", "ify", "co",  "ex",
                                     "ora",  "ix", "io",  "pro", "go"};
constexpr uint64_t kBrandSeed = StableHash("recsys.catalog.brands");

template <typename T, size_t N>
const char* Pick(const T (&items)[N], uint64_t* h) {
  *h = Mix64(*h);
  return items[*h % N];
}

std::string MakeBrandName(uint64_t h) {
  std::string name;
  const int syllables = 2 + static_cast<int>(Mix64(h ^ 1) % 6 == 0);
  for (int s = 0; s < syllables; ++s) {
    name += Pick(kOnsets, &h);
    name += Pick(kVowels, &h);
  }
  name += Pick(kCodas, &h);
  if (syllables == 2 && Mix64(h ^ 2) % 6 == 0) name += Pick(kSuffixes, &h);
  // Some brands are written in capitals (JBL, TOZO); the rest are capitalised.
  const bool shout = name.size() <= 5 && Mix64(h ^ 3) % 4 == 0;
  for (size_t i = 0; i < name.size(); ++i) {
    if (shout || i == 0) name[i] = static_cast<char>(name[i] - 'a' + 'A');
  }
  return name;
}

std::vector<std::string> SplitOn(std::string_view s, char sep) {
  std::vector<std::string> parts;
  if (s.empty()) return parts;
  size_t start = 0;
  for (;;) {
    const size_t end = s.find(sep, start);
    parts.emplace_back(
        s.substr(start, end == std::string_view::npos ? s.size() - start : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

std::vector<std::vector<std::string>> SplitGroups(std::string_view s) {
  std::vector<std::vector<std::string>> groups;
  for (const std::string& group : SplitOn(s, ';')) groups.push_back(SplitOn(group, '|'));
  return groups;
}

// Lower-case runs of ASCII letters and digits: how a title's words are told apart here (the
// featuriser and BM25 also split on punctuation, so "2-pack" holds the words 2 and pack).
std::vector<std::string> SplitWords(std::string_view text) {
  std::vector<std::string> words;
  std::string word;
  for (const char c : text) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool upper = c >= 'A' && c <= 'Z';
    if (letter || upper) {
      word.push_back(upper ? static_cast<char>(c - 'A' + 'a') : c);
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

std::string_view Department(std::string_view path) { return path.substr(0, path.find(" > ")); }
std::string_view LeafName(std::string_view path) { return path.substr(path.rfind(" > ") + 3); }

}  // namespace

CatalogVocabulary::CatalogVocabulary() {
  std::set<std::string> seen;
  for (uint64_t i = 0; brands_.size() < kBrandCount; ++i) {
    std::string name = MakeBrandName(HashCombine(kBrandSeed, i));
    if (seen.insert(name).second) brands_.push_back(std::move(name));
  }

  for (const char* colour : kColours) colours_.push_back(SplitOn(colour, '|'));

  std::map<std::string_view, int32_t> leaf_by_name;
  std::vector<std::string_view> departments;
  for (const LeafSpec& spec : kLeaves) {
    LeafCategory leaf;
    leaf.path = spec.path;
    leaf.weight = spec.weight;
    leaf.nouns = SplitGroups(spec.nouns);
    leaf.attributes = SplitGroups(spec.attributes);
    leaf.sizes = SplitOn(spec.sizes, '|');
    leaf.price_low = spec.price_low;
    leaf.price_high = spec.price_high;
    leaf.coloured = spec.coloured;
    RECSYS_CHECK(!leaf.nouns.empty() && leaf.weight > 0 && leaf.price_low > 0 &&
                     leaf.price_low < leaf.price_high,
                 "bad vocabulary entry " << leaf.path);
    const bool unique = leaf_by_name.emplace(LeafName(spec.path), leaves_.size()).second;
    RECSYS_CHECK(unique, "two leaves named " << LeafName(spec.path));
    if (departments.empty() || departments.back() != Department(spec.path)) {
      departments.push_back(Department(spec.path));
    }
    leaves_.push_back(std::move(leaf));
  }

  const int per_department = kBrandCount / static_cast<int>(departments.size());
  std::vector<int32_t> share(per_department);
  for (size_t l = 0; l < leaves_.size(); ++l) {
    const LeafSpec& spec = kLeaves[l];
    for (const std::string& name : SplitOn(spec.complements, ';')) {
      const auto it = leaf_by_name.find(name);
      RECSYS_CHECK(it != leaf_by_name.end(), spec.path << ": unknown complement " << name);
      leaves_[l].complements.push_back(it->second);
    }
    // A partial Fisher-Yates shuffle of the department's share picks this leaf's brands.
    const int32_t department = static_cast<int32_t>(
        std::find(departments.begin(), departments.end(), Department(spec.path)) -
        departments.begin());
    std::iota(share.begin(), share.end(), department * per_department);
    const int count = 30 + 10 * spec.weight;
    RECSYS_CHECK(count <= per_department, spec.path << ": too many brands for its department");
    uint64_t h = HashCombine(kBrandSeed, ~uint64_t{l});
    for (int i = 0; i < count; ++i) {
      h = Mix64(h);
      std::swap(share[i], share[i + h % (per_department - i)]);
    }
    leaves_[l].brands.assign(share.begin(), share.begin() + count);
  }

  // Paraphrases, checked against every word a title of their leaf can hold.
  std::set<std::string> colour_words;
  for (const auto& synonyms : colours_) {
    for (const std::string& name : synonyms) {
      for (std::string& w : SplitWords(name)) colour_words.insert(std::move(w));
    }
  }
  for (const ParaphraseSpec& spec : kParaphrases) {
    const auto it = leaf_by_name.find(spec.leaf);
    RECSYS_CHECK(it != leaf_by_name.end(), "paraphrases of an unknown leaf " << spec.leaf);
    LeafCategory& leaf = leaves_[it->second];
    RECSYS_CHECK(leaf.paraphrases.empty(), "paraphrases given twice for " << spec.leaf);
    leaf.paraphrases = SplitGroups(spec.paraphrases);
    RECSYS_CHECK(leaf.paraphrases.size() == leaf.nouns.size(),
                 spec.leaf << ": " << leaf.paraphrases.size() << " paraphrase lists for "
                           << leaf.nouns.size() << " product types");
    std::set<std::string> title_words = colour_words;
    const auto add = [&](const std::vector<std::vector<std::string>>& groups) {
      for (const auto& group : groups) {
        for (const std::string& phrase : group) {
          for (std::string& w : SplitWords(phrase)) title_words.insert(std::move(w));
        }
      }
    };
    add(leaf.nouns);
    add(leaf.attributes);
    add({leaf.sizes});
    for (int32_t b : leaf.brands) {
      for (std::string& w : SplitWords(brands_[b])) title_words.insert(std::move(w));
    }
    for (const auto& group : leaf.paraphrases) {
      RECSYS_CHECK(!group.empty(), spec.leaf << ": a product type without paraphrases");
      for (const std::string& phrase : group) {
        for (const std::string& w : SplitWords(phrase)) {
          RECSYS_CHECK(!title_words.count(w), spec.leaf << ": paraphrase '" << phrase
                                                        << "' holds the title word '" << w << "'");
        }
      }
    }
  }
  for (const LeafCategory& leaf : leaves_) {
    RECSYS_CHECK(!leaf.paraphrases.empty(), leaf.path << " has no paraphrases");
  }
}

}  // namespace recsys::data
