"""English articles of the written-pages set (written for this project)."""
# ruff: noqa: E501  (the articles are prose, one paragraph a line)

from sites import BOXES, Article

BOXES.update(
    {
        "hl-readalso-1": (
            "teaser",
            [
                (
                    "pa",
                    "Read also: Why the Metro extension to the coast was shelved for a third time",
                )
            ],
        ),
        "hl-readalso-2": (
            "teaser",
            [("p", "ALSO ON HARBOURLINE → Beach huts sell for record sums at Tynemouth auction")],
        ),
        "hl-poll": (
            "inline-poll",
            [
                (
                    "p",
                    "Have your say: should the council charge for parking "
                    "on the seafront in winter? Vote in our reader poll.",
                )
            ],
        ),
        "hl-tipoff": (
            "inline",
            [
                (
                    "p",
                    "Got a story from your street? Message our newsdesk in "
                    "confidence, we read every tip.",
                )
            ],
        ),
        "ss-deal": (
            "deal-card",
            [("p", "Today's best price: £289 at a major retailer (was £339). Check price ›")],
        ),
        "ss-inline-sub": (
            "inline-cta",
            [
                (
                    "p",
                    "Liking this guide? Over 18,000 tinkerers get our "
                    "Sunday letter. It is free and short.",
                )
            ],
        ),
        "ss-readnext": (
            "read-next",
            [("p", "Up next: We tried six mesh systems in a stone cottage. Only two coped.")],
        ),
        "ss-video": (
            "embed-note",
            [
                (
                    "p",
                    "Watch our eight-minute build video on the Stack & "
                    "Sprocket channel, subtitles included.",
                )
            ],
        ),
        "fn-inline-news": (
            "inline-box",
            [
                ("h3", "The Thursday Field Notes"),
                (
                    "p",
                    "One study, one chart, one question for the "
                    "scientists. Sign up and it lands in your inbox "
                    "every Thursday.",
                ),
            ],
        ),
        "fn-inline-fr": (
            "inline-box",
            [
                (
                    "p",
                    "Vous lisez le français ? Notre édition "
                    "francophone arrive chaque mois par courriel, "
                    "gratuitement. Inscrivez-vous ici.",
                )
            ],
        ),
        "fn-partner": (
            "partner",
            [
                (
                    "small",
                    "This story was produced in partnership with the "
                    "Coastal Data Collaborative, which had no say over "
                    "its content.",
                )
            ],
        ),
        "ll-ad": (
            "sponsored",
            [
                (
                    "p",
                    "Sponsored: Open a cash ISA paying 4.6% in ten minutes. "
                    "Capital at risk for investments. T&Cs apply.",
                )
            ],
        ),
        "ll-tool": (
            "tool-plug",
            [
                (
                    "p",
                    "Try our free compound interest calculator to see what "
                    "your monthly savings could grow to by retirement.",
                )
            ],
        ),
        "ll-inline-social": (
            "inline-proof",
            [
                (
                    "p",
                    "More than 60,000 savers read our free "
                    "money email. Add your name, it takes a "
                    "moment.",
                )
            ],
        ),
        "ll-fr": (
            "promo-fr",
            [
                (
                    "p",
                    "Nouveau : Ledgerline en français. Chaque mois, nos "
                    "conseils d'épargne traduits et adaptés, envoyés "
                    "chaque premier lundi.",
                )
            ],
        ),
        "fn-member": (
            "inline-support",
            [
                (
                    "p",
                    "If this story taught you something, back the people "
                    "who reported it. Supporters get our printed "
                    "annual, invitations to field trips with our "
                    "reporters and a warm feeling. From £5 a month.",
                )
            ],
        ),
        "ss-members": (
            "inline-members",
            [
                (
                    "p",
                    "Found this useful? The Sprocket Club keeps the "
                    "guides free for everyone: club members read "
                    "without ads, vote on what we test next and get "
                    "our build spreadsheets. $3 a month.",
                )
            ],
        ),
    }
)

ARTICLES = [
    Article(
        "harbourline",
        "whitley-bay-library-hours",
        "Whitley Bay library to open on Sundays after volunteers step in",
        "Megan Liddle",
        "2026-02-11",
        "The town's library will open on Sunday afternoons from March, the first time in "
        "eleven years, after a friends group agreed to staff the front desk.",
        """
        p: North Tyneside Council confirmed on Tuesday that the library on Park Road will open from 1pm to 4pm every Sunday for a twelve-month trial, with two paid staff working alongside volunteers from the Friends of Whitley Bay Library.
        p: The group collected more than 2,300 signatures last autumn after the council cut weekday evening hours to save money on heating the Victorian building.
        box: hl-readalso-1
        q: "People kept telling us Sunday is the only day they can bring the children," said Janet Ord, who chairs the friends group. "We thought, right, then we will open the door ourselves."
        p: The council said the trial would cost about £14,000, most of it covered by a grant from a local housing association, and that it would count visitors to decide whether the hours become permanent.
        n: Membership of the library remains free, but the council is consulting on a £1 charge for each reservation of a book from another branch, which campaigners oppose.
        box: hl-tipoff
        n: Families can register for the Sunday story sessions by email or at the desk, and the friends group will send a free monthly newsletter listing the volunteers on duty.
        p: Councillor Pam Brennan, cabinet member for culture, said other branches could follow if Whitley Bay draws the numbers. The first Sunday session is on 2 March.
        """,
    ),
    Article(
        "harbourline",
        "south-shields-ferry-fares",
        "Shields Ferry fares to rise by 40p as operator blames fuel and repairs",
        "Megan Liddle",
        "2026-02-19",
        "A single crossing between North and South Shields will cost £2.40 from April, the "
        "transport authority has confirmed.",
        """
        p: Nexus, which runs the ferry across the mouth of the Tyne, said the rise was needed to cover the cost of repairing the Pride of the Tyne, which spent six weeks in dry dock last year.
        n: Passengers who buy a monthly pass will see a smaller rise, from £38 to £41, and the concession fare for over-60s stays free outside the morning peak.
        p: The crossing takes seven minutes and carried about 280,000 passengers last year, fewer than before the pandemic, when commuters to the shipyards and offices in North Shields filled the morning sailings.
        box: hl-poll
        p: Regular passenger Daniel Okoro, who crosses twice a day to work at the fish quay, said the rise was steep for a short journey. "It is still quicker than the tunnel, so what choice do I have," he said.
        fig: The Spirit of the Tyne leaving the North Shields landing | Photo: Harbourline / Chris Wade
        p: Nexus said it would publish new timetables in March and that the last sailing on weekdays would move from 6.50pm to 7.10pm to match the Metro connections.
        box: hl-readalso-2
        p: The transport committee will be asked to approve the fares at its meeting on 5 March.
        """,
    ),
    Article(
        "harbourline",
        "tynemouth-priory-scaffolding",
        "Scaffolding goes up at Tynemouth Priory for £1.2m repair",
        "Rob Hanlon",
        "2026-03-02",
        "English Heritage says the cliff-top ruins will stay open to visitors during the "
        "eighteen months of work on the east window.",
        """
        p: Stonemasons began work this week on the medieval east end of the priory, where winter storms have loosened blocks of the sandstone and salt has eaten into the carved mouldings.
        p: The charity said about a fifth of the stones in the lancet windows need replacing, using sandstone from a quarry in Northumberland that matches the original.
        box: hl-tipoff
        li: Cost of the work: £1.2 million
        li: Expected to finish: autumn 2027
        li: Visitors last year: 96,000
        n: Entry prices will not change during the work, English Heritage said, and members of the charity will still get in free; a new family ticket at £24 starts in April.
        p: The priory has stood on the headland since the eleventh century and was used as a coastal gun battery in both world wars, which is why parts of the site are still closed to the public.
        p: The scaffolding will be wrapped in printed sheeting showing the windows as they would have looked in the thirteenth century.
        """,
    ),
    Article(
        "harbourline",
        "cullercoats-lifeboat-station",
        "Cullercoats lifeboat crew marks busiest year since 1990s",
        "Rob Hanlon",
        "2026-03-09",
        "Volunteers at the village's RNLI station launched 74 times last year, mostly to "
        "paddleboarders and swimmers caught by the tide.",
        """
        p: The station's annual report, published at the weekend, shows that the inshore lifeboat was called out nearly twice as often as in 2021, with most launches on summer afternoons between Tynemouth Longsands and St Mary's Island.
        q: "The water looks calm from the beach but the rip at the north end of the bay can take a strong swimmer out in a minute," said helmsman Lisa Carr.
        box: hl-readalso-1
        p: The crew of 26 volunteers includes a nurse, two joiners and a retired teacher. Six new members passed their training this winter.
        n: The RNLI is funded almost entirely by donations, and the station said its annual open day raised £11,400 last summer, enough to cover the fuel for the year.
        p: The charity is reminding visitors to swim between the red and yellow flags, which will be back on Longsands from the end of May.
        """,
    ),
    Article(
        "stackandsprocket",
        "pi-homelab-backup",
        "A backup plan for a Raspberry Pi homelab that survives a dead SD card",
        "Nadia Brooks",
        "2026-01-20",
        "SD cards die, usually on a Sunday. Here is the setup we settled on after losing a "
        "Home Assistant install twice.",
        """
        p: The first rule is that the card is not the backup. We boot our Pi 5 from a small NVMe drive now, which is faster and far less fragile, but we still treat the whole machine as something that can vanish at any moment.
        box: ss-deal
        p: Every night at 3am a systemd timer runs restic and pushes an encrypted snapshot of /etc, the Docker volumes and the Home Assistant config to a second box in the loft. Once a week a copy goes to cheap object storage.
        h: What it costs
        n: Object storage for about 40GB of snapshots comes to roughly £1.60 a month at current prices, and the provider we use does not charge for downloads, which matters when you actually need to restore.
        box: ss-inline-sub
        p: Restores are the part people skip. Once a month we wipe a spare Pi, install restic, and bring the whole stack back from the snapshots. The last run took 22 minutes, most of it pulling container images.
        box: ss-members
        p: If you do one thing after reading this, write the restore steps down on paper and tape them inside the case. Future you, at midnight, will be grateful.
        """,
    ),
    Article(
        "stackandsprocket",
        "quiet-mini-pc-fans",
        "We replaced the fans in three mini PCs. Here is what changed",
        "Nadia Brooks",
        "2026-02-03",
        "Small desktops are great until they whine. Swapping the fan is cheap, but the "
        "results varied more than we expected.",
        """
        p: All three machines were bought second-hand from office clear-outs, which is where most mini PCs in home servers come from. Each had a stock blower fan that ramped up under light load and made a thin, high noise.
        p: On the first, a replacement fan from the same maker cut noise at idle from 34 to 27 decibels measured at 50cm. On the second, the new fan was quieter but the CPU ran 9°C hotter, so the BIOS pushed it faster and we gained almost nothing.
        box: ss-readnext
        box: ss-video
        p: The third needed a little filing of the plastic shroud before the thinner fan would seat. Once in, it was the best result of the lot, inaudible from the sofa.
        n: Replacement fans cost between £8 and £15, and one retailer now sells a bundle with thermal paste for £12, although its paste was the worst we tested.
        p: Before you start, check the fan's connector. Two of our machines used a tiny four-pin plug that standard PC fans do not fit without an adapter.
        """,
    ),
    Article(
        "stackandsprocket",
        "self-hosted-photos",
        "Moving 60,000 family photos off the cloud: a realistic timeline",
        "Tom Achebe",
        "2026-02-17",
        "It took us a month, not a weekend. Most of that time went on duplicates and "
        "missing dates, not on the software.",
        """
        p: We started with a takeout export of about 400GB, split into fifty-gigabyte archives. The download alone took three evenings on a home connection, and two archives came down corrupted and had to be fetched again.
        p: The export stores the date of many photos in a separate JSON file rather than in the image, so a naive import puts thousands of holiday pictures on the day of the export. A small script fixed that by copying the dates back.
        box: ss-inline-sub
        box: ss-members
        n: The cloud plan we left cost £7.99 a month for 2TB; the two hard drives for the new setup cost £190, so the move pays for itself in about two years if nothing breaks.
        p: Face recognition on a mini PC with no graphics card ran for four days. It found my brother in 11,000 photos and decided my mother was two different people.
        q: "The hard part is not the server, it is agreeing as a family where the photos now live," said my sister, who still uploads everything to her phone's cloud.
        p: We now keep one copy on the server, one on a drive at my parents' house, and a monthly encrypted copy in object storage.
        """,
    ),
    Article(
        "stackandsprocket",
        "keyboard-switch-lube",
        "Is lubing keyboard switches worth an evening? We timed it",
        "Tom Achebe",
        "2026-03-04",
        "Ninety switches, one brush and a lot of patience. The sound improved. Our "
        "patience did not.",
        """
        p: Lubing means opening every switch, painting a thin layer of grease on the stem and spring, and closing it again. On a full-size board that is more than a hundred switches.
        box: ss-deal
        p: With a cheap opener and a practice run, we averaged 52 seconds a switch, which comes to about an hour and twenty minutes for a 90-key board, not counting the stabilisers.
        p: The difference is real: the scratchy feel of the linear switches was gone and the sound dropped from a clack to something closer to a thud. Two colleagues picked the lubed board in a blind test, one did not care.
        n: Several keyboard makers now sell factory-lubed switches for about the same price as dry ones, which makes the evening harder to justify than it was three years ago.
        box: ss-readnext
        n: One of the bigger switch makers told subscribers of its mailing list last month that it would stop selling unlubed switches altogether by the summer.
        p: If your board is hot-swappable and you are curious, try it on the ten keys you use most. If you hate it, you have lost a quarter of an hour.
        """,
    ),
    Article(
        "fieldnotes",
        "seagrass-meadows-firth",
        "Seagrass is coming back in the Firth of Forth, and divers are counting it",
        "Isla Ferguson",
        "2026-01-28",
        "Volunteers mapped 14 hectares of new growth last summer, the first sign that "
        "planting trials on the Fife coast are taking.",
        """
        p: Seagrass once covered large parts of the firth's shallow bays before disease and pollution wiped most of it out in the twentieth century. Since 2021 volunteers have planted seeds in hessian bags along the shore near Kinghorn.
        box: fn-inline-news
        p: Divers swam fixed lines across the bays in August and recorded shoot density every ten metres. In the oldest plots density has roughly doubled in two years.
        box: fn-partner
        q: "Seagrass is slow until suddenly it isn't. Once a meadow holds the sediment, it starts helping itself," said Dr Ruth Anand, a marine ecologist who advises the project.
        fig: A diver records seagrass shoots off Kinghorn | Photograph: Field Notes / Sam Reid
        n: The method was borrowed from Danish researchers, who call it „ålegræs i sække“, eelgrass in sacks, and who have planted meadows this way in the Limfjord since 2017.
        p: The meadows store carbon in the seabed and shelter juvenile fish, but researchers warn against treating them as a climate fix. Fourteen hectares stores a tiny fraction of what a single power station emits.
        p: The project plans to plant another three hectares this spring, and is asking boat owners to avoid anchoring in the marked plots.
        """,
    ),
    Article(
        "fieldnotes",
        "heat-pump-data-scotland",
        "What 900 heat pumps in Scottish homes tell us about winter bills",
        "Isla Ferguson",
        "2026-02-14",
        "A year of meter readings suggests the machines cope with cold snaps better than "
        "their owners feared, but installation quality varies widely.",
        """
        p: The data comes from a monitoring scheme that fitted electricity and heat meters to 900 air-source heat pumps in homes from Dumfries to Orkney. Researchers published the first full year of readings this week.
        p: The median system produced 3.1 units of heat for every unit of electricity over the year, and still managed 2.4 during the coldest week of January, when temperatures in Aberdeenshire fell to minus twelve.
        box: fn-inline-fr
        n: Households on a tariff with cheaper night-time electricity paid on average £180 less over the year than those on a flat rate, the researchers found, though the tariffs have since changed.
        box: fn-member
        p: The worst tenth of systems performed far below the rest. Most had radiators that were too small, or flow temperatures set high by installers worried about complaints.
        q: "The heat pump is rarely the problem. The problem is what gets bolted to it," said Callum Ross, one of the authors.
        n: The Scottish findings echo a German field study from 2024, whose authors summed it up in one line: „Die Wärmepumpe funktioniert auch im Altbau, wenn die Heizkörper groß genug sind.“ The heat pump works in old houses too, if the radiators are big enough.
        p: The full dataset is due to be released to other researchers in the spring.
        """,
    ),
    Article(
        "fieldnotes",
        "puffin-counts-isle-may",
        "Puffin numbers on the Isle of May hold steady after two bad years",
        "Daniel Mbeki",
        "2026-03-05",
        "Researchers counted about 39,000 occupied burrows last season, roughly the same "
        "as before bird flu reached the colony.",
        """
        p: The count is carried out every five years, but the island's wardens added extra surveys after avian influenza killed thousands of seabirds along the east coast of Scotland.
        p: Puffins seem to have been spared the worst. Guillemots and kittiwakes, which nest on open cliff ledges close to each other, suffered more than burrow-nesting birds.
        box: fn-inline-news
        li: Occupied burrows counted: about 39,000
        li: Change since the previous count: less than 2%
        li: Survey period: May to July
        p: The bigger worry is food. Sandeels, which puffins feed to their chicks, have become scarcer as the North Sea warms, and chick weights at the colony have been falling slowly for two decades.
        n: Boat trips to the island, run from Anstruther, cost £38 for adults this year, and the operator says part of each ticket now goes to the monitoring work.
        box: fn-member
        p: Wardens will repeat the survey in 2028.
        """,
    ),
    Article(
        "ledgerline",
        "index-funds-fees",
        "Index fund fees have fallen again. Should you switch?",
        "Harriet Cole",
        "2026-01-15",
        "Two of the biggest platforms cut charges on their global trackers this month. "
        "The savings are real but smaller than the headlines suggest.",
        """
        n: One provider cut the annual charge on its global equity tracker from 0.22% to 0.15%, and another now charges 0.12% on a similar fund, with no minimum investment.
        p: On a £20,000 pot, a cut of seven hundredths of a percentage point saves about £14 a year. Over twenty years, with growth, the gap compounds to a few hundred pounds, which is worth having but not worth panicking over.
        box: ll-ad
        p: The platform fee usually matters more than the fund fee. Some platforms charge a percentage of your pot, others a flat monthly sum, and the better deal depends almost entirely on how much you hold.
        box: ll-inline-social
        q: "People obsess over the fund's charge and then pay 0.45% to the platform every year without noticing," said Priya Natarajan, a financial planner in Leeds.
        q: «Las comisiones bajan, pero el cliente sigue sin mirar lo que paga a la plataforma», said a Madrid-based adviser quoted in the Spanish financial press, making the same point.
        p: Before moving, check whether your current platform charges an exit fee, and make sure the transfer is done as a transfer, not by selling and buying again, or you may lose days out of the market.
        """,
    ),
    Article(
        "ledgerline",
        "premium-bonds-rate",
        "Premium Bonds prize rate cut: what it means for your savings",
        "Harriet Cole",
        "2026-02-05",
        "The prize fund rate falls to 3.6% from next month, and the odds of winning get "
        "longer for every pound you hold.",
        """
        p: National Savings and Investments announced the cut on Tuesday, its second in six months, following falls in market interest rates.
        n: The odds of each £1 bond winning a prize will lengthen from 22,000 to 1 to 23,000 to 1, and the number of £1 million jackpots will stay at two a month.
        box: ll-tool
        p: The prize rate is an average. Most holders with modest sums win nothing in a typical month, and someone with £1,000 in bonds should expect to win nothing in most years.
        box: ll-fr
        p: Prizes are tax-free, which is why higher-rate taxpayers still find bonds attractive compared with a taxable savings account paying a little more.
        p: Easy-access savings accounts currently pay up to about 4.5%, though many of the best rates come with limits on withdrawals.
        """,
    ),
    Article(
        "ledgerline",
        "pension-tracing",
        "Lost pensions: how to find the pots you forgot about",
        "Marcus Webb",
        "2026-03-01",
        "An estimated 3 million pension pots in the UK have lost touch with their owners. "
        "Tracking yours down is mostly a matter of paperwork.",
        """
        p: Every time you changed jobs in the last twenty years, you probably joined a new workplace pension. Small pots left behind add up, and many people have four or five.
        p: The government's free pension tracing service will give you contact details for a former employer's scheme if you know the employer's name. It will not tell you whether you have money there.
        box: ll-inline-social
        box: ll-ad
        n: Beware of companies that offer to find your pensions for a fee; some charge up to 1% of the pots they find, for a search you can do yourself at no cost.
        p: Once you have found the pots, think before combining them. Some older schemes carry guaranteed annuity rates or protected tax-free cash that you would lose by moving.
        p: Keep a simple list of every scheme, its reference number and your login, and update it whenever you change jobs.
        """,
    ),
]
